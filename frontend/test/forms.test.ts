import { describe, expect, it } from 'vitest';
import { Api, ApiError, type FieldView } from '../src/api';
import { apiErrorsFor, changedValues, customerEditable, customerVisible, displayValue, fromDraft, move, toDraft, validateDraft } from '../src/forms';

const field = (over: Partial<FieldView>): FieldView => ({
  id: over.key ?? 'id', entity: 'organization', key: 'k', label: 'Label', description: null, type: 'text', required: false, visibility: 'agents',
  position: 0, archived: false, min: null, max: null, decimals: null, version: 1, options: null, ...over,
});
const select = field({
  key: 'tier', type: 'select',
  options: [{ id: 'o1', label: 'Gold', position: 0, retired: false }, { id: 'o2', label: '<b>Silver</b>', position: 1, retired: true }],
});

describe('display and drafts', () => {
  it('shows option labels, yes/no and fixed decimals; unknown ids as they are', () => {
    expect(displayValue(select, 'o2')).toBe('<b>Silver</b>');
    expect(displayValue(select, 'gone')).toBe('gone');
    expect(displayValue(field({ type: 'multi-select', options: select.options }), ['o1', 'o2'])).toBe('Gold, <b>Silver</b>');
    expect(displayValue(field({ type: 'checkbox' }), false)).toBe('No');
    expect(displayValue(field({ type: 'number', decimals: 2 }), 3)).toBe('3.00');
    expect(displayValue(field({}), null)).toBe('');
  });

  it('round-trips values through drafts; empty clears', () => {
    const number = field({ type: 'number' });
    expect(fromDraft(number, toDraft(number, 12.5))).toBe(12.5);
    expect(fromDraft(number, '  ')).toBeNull();
    expect(fromDraft(field({ type: 'checkbox' }), toDraft(field({ type: 'checkbox' }), null))).toBe(false);
    expect(fromDraft(select, 'o1')).toBe('o1');
    expect(fromDraft(field({}), '  padded ')).toBe('padded');
    expect(fromDraft(number, '12abc')).toBe('12abc'); // sent as is: the API refuses it in words
  });
});

describe('validateDraft', () => {
  it('checks required, number bounds and decimals, dates, emails and urls', () => {
    expect(validateDraft(field({ required: true }), '')).toBe('is required');
    expect(validateDraft(field({ required: true, type: 'multi-select', options: [] }), [])).toBe('is required');
    const n = field({ type: 'number', min: 0, max: 10, decimals: 1 });
    expect(validateDraft(n, 'x')).toBe('must be a number');
    expect(validateDraft(n, '-1')).toBe('must be at least 0');
    expect(validateDraft(n, '11')).toBe('must be at most 10');
    expect(validateDraft(n, '1.25')).toBe('must have at most 1 decimals');
    expect(validateDraft(n, '9.5')).toBeNull();
    expect(validateDraft(field({ type: 'date' }), '2026-13-45')).toBe('must be a date (YYYY-MM-DD)');
    expect(validateDraft(field({ type: 'date' }), '2026-11-24')).toBeNull();
    expect(validateDraft(field({ type: 'email' }), 'a@b')).toBe('must be an email address');
    expect(validateDraft(field({ type: 'url' }), 'javascript:alert(1)')).toBe('must be an http(s) address');
    expect(validateDraft(field({ type: 'url' }), 'https://x.example')).toBeNull();
    expect(validateDraft(field({}), 'x'.repeat(256))).toBe('must be at most 255 characters');
  });
});

describe('changedValues', () => {
  it('sends only what changed', () => {
    const fields = [select, field({ key: 'note' }), field({ key: 'flag', type: 'checkbox' })];
    expect(changedValues(fields, { tier: 'o1', note: 'a' }, { tier: 'o1', note: 'b', flag: false })).toEqual({ note: 'b' });
    expect(changedValues(fields, { tier: 'o1' }, { tier: '' })).toEqual({ tier: null });
  });
});

describe('move', () => {
  it('moves an item and clamps the target', () => {
    expect(move(['a', 'b', 'c'], 0, 2)).toEqual(['b', 'c', 'a']);
    expect(move(['a', 'b', 'c'], 2, -5)).toEqual(['c', 'a', 'b']);
    expect(move(['a', 'b'], 5, 0)).toEqual(['a', 'b']);
  });
});

describe('customer filters', () => {
  it('never keeps agent-only or archived fields', () => {
    const fields = [field({ key: 'a', visibility: 'agents' }), field({ key: 'v', visibility: 'customers-view' }), field({ key: 'e', visibility: 'customers-edit' }), field({ key: 'x', visibility: 'customers-edit', archived: true })];
    expect(customerVisible(fields).map((f) => f.key)).toEqual(['v', 'e']);
    expect(customerEditable(fields).map((f) => f.key)).toEqual(['e']);
  });
});

describe('Api', () => {
  it('sends the context token, If-Match with the version read, and turns problem+json into ApiError', async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const fetchImpl = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify({ code: 'validation_failed', detail: 'Some values are not valid', errors: { tier: ['has an unknown option'] } }), {
        status: 400, headers: { 'Content-Type': 'application/problem+json' },
      });
    }) as unknown as typeof fetch;
    const api = new Api({ getToken: () => Promise.resolve('ctx') }, fetchImpl);
    const record = { id: 'r1', entity: 'organization' as const, externalId: '1', name: 'n', email: null, version: 7, organizationIds: null, values: {} };
    const error = await api.setValues(record, { tier: 'x' }, true).catch((e: unknown) => e);
    expect(calls[0]!.url).toBe('/api/portal/organizations/r1/values');
    expect(calls[0]!.init.headers).toMatchObject({ Authorization: 'JWT ctx', 'If-Match': 'W/"7"' });
    expect(error).toBeInstanceOf(ApiError);
    expect(apiErrorsFor(error as ApiError, 'tier')).toEqual(['has an unknown option']);
    expect((error as ApiError).isStale).toBe(false);
  });

  it('marks a 412 as stale', async () => {
    const api = new Api({ getToken: () => Promise.resolve('t') }, (async () => new Response('{"code":"record.version_mismatch"}', { status: 412 })) as unknown as typeof fetch);
    const error = (await api.get('/x').catch((e: unknown) => e)) as ApiError;
    expect(error.isStale).toBe(true);
    expect(error.code).toBe('record.version_mismatch');
  });
});
