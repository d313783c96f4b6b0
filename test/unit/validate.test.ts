import path from 'node:path';
import express from 'express';
import supertest from 'supertest';
import ejs from 'ejs';
import { z } from 'zod';
import { validate } from '../../src/http/validate';
import { idParam, idParams, sha256Param, tokenParam } from '../../src/http/params';
import { fieldErrorsFrom, fieldError, mergeFieldErrors, type FieldErrors } from '../../src/http/field-errors';
import { translator } from '../../src/i18n';
import { i18nMiddleware } from '../../src/http/language';
import { errorHandler } from '../../src/http/error-handler';

const form = z.object({
  email: z.email('bootstrap.errors.email_invalid'),
  note: z.string().max(5, 'errors.too_long').optional(),
  count: z.coerce.number().int().min(1),
});

/** A tiny app: one JSON route, one form route that re-renders, the real i18n and error handler. */
function app() {
  const a = express();
  a.use(express.json());
  a.use(i18nMiddleware);
  const api = validate({ params: idParams, query: z.object({ verbose: z.enum(['0', '1']).default('0') }), body: form });
  a.post('/api/things/:id', api, (req, res) => {
    const v = api.of(req);
    // Typed: id is a number, count a number, verbose '0' | '1'.
    const sum: number = v.params.id + v.body.count;
    res.json({ id: v.params.id, sum, verbose: v.query.verbose, email: v.body.email });
  });
  const page = validate({ body: form }, { onInvalid: (_req, res, errors) => res.status(422).json({ reRendered: errors }) });
  a.post('/form', page, (req, res) => res.json({ ok: page.of(req).body.email }));
  a.use(errorHandler);
  return a;
}

describe('validate()', () => {
  it('hands the route typed values: path ids as numbers, defaults filled, coercions applied', async () => {
    const res = await supertest(app()).post('/api/things/42').send({ email: 'a@example.com', count: '3' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 42, sum: 45, verbose: '0', email: 'a@example.com' });
  });

  it('answers a malformed id with 404, like an id that names nothing', async () => {
    for (const bad of ['abc', '0', '-1', '1.5', '01', '1e3', '99999999999', '%20']) {
      const res = await supertest(app()).post(`/api/things/${bad}`).set('Accept', 'application/json').send({ email: 'a@example.com', count: 1 });
      expect([bad, res.status]).toEqual([bad, 404]);
      expect(res.body.error.code).toBe('errors.not_found');
    }
  });

  it('answers invalid body and query with 422 JSON: one shape, each field translated in the reader language', async () => {
    const res = await supertest(app()).post('/api/things/1?verbose=yes&lang=en').send({ email: 'nope', note: 'far too long', count: 0 });
    expect(res.status).toBe(422);
    expect(res.body.error).toEqual({
      status: 422,
      code: 'errors.invalid',
      message: 'Some of what you entered is not valid.',
      fields: {
        verbose: [{ code: 'errors.invalid_field', message: 'This value is not valid.' }],
        email: [{ code: 'bootstrap.errors.email_invalid', message: expect.any(String) }],
        note: [{ code: 'errors.too_long', message: 'Use at most 5 characters.' }],
        count: [{ code: 'errors.invalid_field', message: 'This value is not valid.' }],
      },
    });
    const ja = await supertest(app()).post('/api/things/1').send({ email: 'a@example.com', note: 'far too long', count: 1 });
    expect(ja.body.error.fields.note[0].message).toBe('5 文字以内で入力してください。');
  });

  it('gives a form route its field errors to re-render, and never runs the handler', async () => {
    const res = await supertest(app()).post('/form').send({ email: 'x', count: 2 });
    expect(res.status).toBe(422);
    expect(res.body.reRendered).toEqual({ email: [{ key: 'bootstrap.errors.email_invalid' }] });
    const ok = await supertest(app()).post('/form').send({ email: 'x@example.com', count: 2 });
    expect(ok.body).toEqual({ ok: 'x@example.com' });
  });

  it('keeps the answer to malformed JSON at 400', async () => {
    const res = await supertest(app()).post('/api/things/1').set('Content-Type', 'application/json').send('{"email":');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('errors.malformed_body');
  });
});

describe('shared parameter parsers', () => {
  it('accept what the portal issues and refuse the rest', () => {
    expect(idParam.parse('2147483647')).toBe(2147483647);
    expect(idParam.safeParse('2147483648').success).toBe(false);
    expect(sha256Param.safeParse('a'.repeat(64)).success).toBe(true);
    expect(sha256Param.safeParse('A'.repeat(64)).success).toBe(false);
    expect(tokenParam.safeParse('1a.2b.mzx0.AbCdEfGhIjKlMnOpQrStUv').success).toBe(true);
    expect(tokenParam.safeParse('a/b').success).toBe(false);
    expect(tokenParam.safeParse('x'.repeat(301)).success).toBe(false);
  });
});

describe('field errors', () => {
  it('keep each field first zod problem, problems inside a field on the field, English defaults replaced', () => {
    const r = z.object({ a: z.string().min(3, 'errors.invalid_field').regex(/x/), b: z.object({ c: z.number() }) }).safeParse({ a: 'y', b: { c: 'no' } });
    expect(r.success).toBe(false);
    expect(fieldErrorsFrom(r.error!, 'notice.errors.invalid_field')).toEqual({
      a: [{ key: 'errors.invalid_field', vars: { min: 3, n: 3 } }],
      b: [{ key: 'notice.errors.invalid_field' }],
    });
  });

  it('merge without losing a message', () => {
    expect(mergeFieldErrors(fieldError('a', 'k1'), fieldError('a', 'k2', { n: 1 }))).toEqual({ a: [{ key: 'k1' }, { key: 'k2', vars: { n: 1 } }] });
  });

  it('render beside their field with the one partial, in the page language, with aria pointing at them', async () => {
    const views = path.resolve(__dirname, '../../views/partials');
    const errors: FieldErrors = mergeFieldErrors(fieldError('email', 'bootstrap.errors.email_invalid'), fieldError('note', 'errors.too_long', { max: 200 }), fieldError('note', 'errors.invalid_field'));
    const t = translator('en');
    const html = await ejs.renderFile(path.join(views, 'field-errors.ejs'), { field: 'note', errors, t });
    expect(html.trim()).toBe('<p class="field-error" id="note-error">Use at most 200 characters. This value is not valid.</p>');
    expect((await ejs.renderFile(path.join(views, 'field-errors.ejs'), { field: 'other', errors, t })).trim()).toBe('');
    const aria = await ejs.renderFile(path.join(views, 'field-aria.ejs'), { field: 'email', errors, hint: 'email-hint', t });
    expect(aria.trim()).toBe('aria-invalid="true" aria-describedby="email-error email-hint"');
    const calm = await ejs.renderFile(path.join(views, 'field-aria.ejs'), { field: 'other', errors, hint: 'other-hint', t });
    expect(calm.trim()).toBe('aria-describedby="other-hint"');
  });
});
