import type http from 'node:http';
import { requestingOrigin } from '../../src/features/notice/banner-sightings';
import { secretBits } from '../../src/features/recovery/doctor';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as http.IncomingMessage;

describe('the origin a banner request came from', () => {
  it('is the Origin header, else the origin part of Referer', () => {
    expect(requestingOrigin(req({ origin: 'https://toybox.example' }))).toBe('https://toybox.example');
    expect(requestingOrigin(req({ referer: 'https://toybox.example/posts/12?sort=new#c3' }))).toBe('https://toybox.example');
    expect(requestingOrigin(req({ referer: 'http://127.0.0.1:8000?x' }))).toBe('http://127.0.0.1:8000');
    expect(requestingOrigin(req({ referer: 'https://toybox.example' }))).toBe('https://toybox.example');
  });

  it('ignores what is not an http(s) origin', () => {
    expect(requestingOrigin(req({}))).toBeNull();
    expect(requestingOrigin(req({ origin: 'null' }))).toBeNull();
    expect(requestingOrigin(req({ origin: 'javascript:alert(1)' }))).toBeNull();
    expect(requestingOrigin(req({ referer: 'file:///etc/passwd' }))).toBeNull();
    expect(requestingOrigin(req({ origin: `https://${'a'.repeat(300)}.example` }))).toBeNull();
    expect(requestingOrigin(req({ origin: 'https://bad host' }))).toBeNull();
  });
});

describe('session secret strength', () => {
  it('counts a random hex secret as strong and a repeated word as weak', () => {
    expect(secretBits('0123456789abcdef'.repeat(4))).toBe(256);
    expect(secretBits('a'.repeat(40))).toBe(0);
    expect(secretBits('changeme'.repeat(5))).toBeLessThan(128);
  });
});
