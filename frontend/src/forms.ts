import type { ApiError, FieldView, Value } from './api';

/** What an input holds while a person edits it: text for most types, a boolean for checkboxes, option ids for multi-selects. */
export type Draft = string | boolean | string[];

const optionLabel = (field: FieldView, id: string) => field.options?.find((o) => o.id === id)?.label ?? id;

/** A value as text for people (option labels, yes/no); empty when unset. Always rendered as text, never as markup. */
export function displayValue(field: FieldView, value: Value | undefined): string {
  if (value === null || value === undefined) return '';
  switch (field.type) {
    case 'checkbox':
      return value ? 'Yes' : 'No';
    case 'select':
      return optionLabel(field, String(value));
    case 'multi-select':
      return (Array.isArray(value) ? value : [String(value)]).map((id) => optionLabel(field, id)).join(', ');
    case 'number':
      return typeof value === 'number' && field.decimals !== null ? value.toFixed(field.decimals) : String(value);
    default:
      return String(value);
  }
}

/** The input state for a stored value. */
export function toDraft(field: FieldView, value: Value | undefined): Draft {
  if (field.type === 'checkbox') return value === true;
  if (field.type === 'multi-select') return Array.isArray(value) ? value : [];
  if (value === null || value === undefined) return '';
  return String(value);
}

/** The API value for an input state: empty clears (null), numbers are parsed, options are sent as ids. */
export function fromDraft(field: FieldView, draft: Draft): Value {
  if (field.type === 'checkbox') return draft === true;
  if (field.type === 'multi-select') return Array.isArray(draft) ? draft : [];
  const text = typeof draft === 'string' ? draft.trim() : '';
  if (text === '') return null;
  if (field.type === 'number') {
    const n = Number(text.replace(/\s/g, ''));
    return Number.isFinite(n) ? n : text; // an unparsable number goes to the API as text, which refuses it in words
  }
  return field.type === 'paragraph' ? (draft as string) : text;
}

/**
 * Checks the API would refuse anyway, made before sending so a person sees them at once; the API's own messages
 * (validation_failed errors) are shown the same way when they come back.
 */
export function validateDraft(field: FieldView, draft: Draft): string | null {
  const value = fromDraft(field, draft);
  const empty = value === null || (Array.isArray(value) && value.length === 0);
  if (field.required && empty && field.type !== 'checkbox') return 'is required';
  if (empty) return null;
  switch (field.type) {
    case 'number': {
      if (typeof value !== 'number') return 'must be a number';
      if (field.min !== null && value < field.min) return `must be at least ${field.min}`;
      if (field.max !== null && value > field.max) return `must be at most ${field.max}`;
      if (field.decimals !== null) {
        const decimals = (String(value).split('.')[1] ?? '').length;
        if (decimals > field.decimals) return field.decimals === 0 ? 'must be a whole number' : `must have at most ${field.decimals} decimals`;
      }
      return null;
    }
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(String(value)) && !Number.isNaN(Date.parse(String(value))) ? null : 'must be a date (YYYY-MM-DD)';
    case 'email':
      return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(String(value)) ? null : 'must be an email address';
    case 'url':
      try {
        const u = new URL(String(value));
        return u.protocol === 'http:' || u.protocol === 'https:' ? null : 'must be an http(s) address';
      } catch {
        return 'must be an http(s) address';
      }
    case 'text':
      return String(value).length > 255 ? 'must be at most 255 characters' : null;
    case 'paragraph':
      return String(value).length > 10000 ? 'must be at most 10,000 characters' : null;
    default:
      return null;
  }
}

/** The messages an API error has for one field (validation_failed keys errors by field key), else none. */
export function apiErrorsFor(error: ApiError | null, fieldKey: string): string[] {
  return error?.errors?.[fieldKey] ?? [];
}

/** One sentence for people: "Renewal date must be a date (YYYY-MM-DD)". */
export function sentence(field: Pick<FieldView, 'label'>, message: string): string {
  return `${field.label} ${message}`;
}

/** Only the drafts that changed, as API values. */
export function changedValues(fields: FieldView[], original: Record<string, Value>, drafts: Record<string, Draft>): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const field of fields) {
    if (!(field.key in drafts)) continue;
    const next = fromDraft(field, drafts[field.key]!);
    const before = original[field.key] ?? (field.type === 'checkbox' ? false : field.type === 'multi-select' ? [] : null);
    if (JSON.stringify(next) !== JSON.stringify(before)) out[field.key] = next;
  }
  return out;
}

/** Moves the item at `from` to `to` (keyboard and drag reorder share it). */
export function move<T>(items: readonly T[], from: number, to: number): T[] {
  if (from === to || from < 0 || from >= items.length) return [...items];
  const clamped = Math.max(0, Math.min(items.length - 1, to));
  const copy = [...items];
  const [item] = copy.splice(from, 1);
  copy.splice(clamped, 0, item as T);
  return copy;
}

/** Fields a customer may see (the API already filters; the portal filters again so a mistake upstream never shows). */
export const customerVisible = (fields: FieldView[]) => fields.filter((f) => f.visibility !== 'agents' && !f.archived);
export const customerEditable = (fields: FieldView[]) => fields.filter((f) => f.visibility === 'customers-edit' && !f.archived);
