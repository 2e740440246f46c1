import { describe, expect, it, vi } from 'vitest';
import { takeTokenFromLocation } from '../src/auth';
import { parseRoute } from '../src/router';

describe('takeTokenFromLocation', () => {
  it('keeps the token of #token=… for the session and removes it from the address bar', () => {
    // given
    const replaceState = vi.fn();
    sessionStorage.clear();
    // when
    const token = takeTokenFromLocation({ hash: '#token=abc%2Fdef', pathname: '/console/', search: '' }, { replaceState }, sessionStorage);
    // then
    expect(token).toBe('abc/def');
    expect(sessionStorage.getItem('facewatch.token')).toBe('abc/def');
    expect(replaceState).toHaveBeenCalledWith(null, '', '/console/#/');
  });

  it('keeps the route after the token, and reads the stored token when the address has none', () => {
    const replaceState = vi.fn();
    sessionStorage.clear();
    takeTokenFromLocation({ hash: '#token=t1&/sightings/abc', pathname: '/console/', search: '' }, { replaceState }, sessionStorage);
    expect(replaceState).toHaveBeenCalledWith(null, '', '/console/#/sightings/abc');
    expect(takeTokenFromLocation({ hash: '#/people', pathname: '/console/', search: '' }, { replaceState }, sessionStorage)).toBe('t1');
    sessionStorage.clear();
    expect(takeTokenFromLocation({ hash: '#/people', pathname: '/console/', search: '' }, { replaceState }, sessionStorage)).toBeUndefined();
  });
});

describe('parseRoute', () => {
  it.each([
    ['', { page: 'live' }],
    ['#/', { page: 'live' }],
    ['#/sightings/0123abc', { page: 'sighting', id: '0123abc' }],
    ['#/people', { page: 'people' }],
    ['#/people/Jose-Maria%3A0011', { page: 'person', id: 'Jose-Maria:0011' }],
    ['#/visitors/v-12', { page: 'visitor', id: 'v-12' }],
    ['#/cameras', { page: 'cameras' }],
    ['#/nowhere', { page: 'live' }],
  ])('%s', (hash, route) => expect(parseRoute(hash)).toEqual(route));
});
