import { parse as parseCsv } from 'csv-parse/sync';
import { csvCell, csvRecord, neutraliseCell } from '../../src/files/csv-cell';

describe('CSV cells', () => {
  it('prefixes every formula start with an apostrophe and leaves other text alone', () => {
    for (const s of ['=1+2', '+1', '-2+3', '@SUM(A1)', '\t=x', '\r=x']) expect(neutraliseCell(s)).toBe(`'${s}`);
    for (const s of ['plain', 'a=b', '', '1-2', "'already"]) expect(neutraliseCell(s)).toBe(s);
  });

  it('writes records that parse back to the neutralised text', () => {
    const line = csvRecord(['=HYPERLINK("http://x","y")', 'a,b', 'line\nbreak', null, 3, new Date('2026-01-02T03:04:05Z')]);
    expect(line.endsWith('\r\n')).toBe(true);
    expect(parseCsv(line)).toEqual([[`'=HYPERLINK("http://x","y")`, 'a,b', 'line\nbreak', '', '3', '2026-01-02T12:04:05+09:00']]); // times people open in a spreadsheet are Japan time with their offset
    expect(csvCell('=1')).toBe(`"'=1"`);
  });
});
