import { BURST_SECONDS, grantTokens } from '../../src/mail/send-rate';

describe('the outbound token bucket (src/mail/send-rate.ts)', () => {
  it('grants a full bucket at once, then one message per 60/rate seconds', () => {
    const full = grantTokens(2, 0, 60, 10);
    expect(full).toEqual({ granted: 2, tokens: 0, waitMs: 0 });
    expect(grantTokens(0, 0.5, 60, 10)).toEqual({ granted: 0, tokens: 0.5, waitMs: 500 });
    expect(grantTokens(0, 1, 60, 10)).toMatchObject({ granted: 1, waitMs: 0 });
  });

  it('saves up at most BURST_SECONDS worth (and at least one message), however long it was idle', () => {
    expect(grantTokens(0, 3600, 60, 100).granted).toBe(60 / 60 * BURST_SECONDS);
    expect(grantTokens(0, 3600, 6, 100).granted).toBe(1); // 0.2 a second: the cap is still one message
    expect(grantTokens(0, 3600, 600, 100).granted).toBe(20);
  });

  it('0 means no limit', () => {
    expect(grantTokens(0, 0, 0, 500)).toEqual({ granted: 500, tokens: 0, waitMs: 0 });
  });
});
