import Button from '@atlaskit/button/new';
import { useState } from 'react';
import { ApiError, type FieldView, type RecordView, type Value } from '../api';
import { apiErrorsFor, changedValues, toDraft, validateDraft, type Draft } from '../forms';
import { ErrorMessage } from './common';
import { FieldInput } from './FieldInput';

/**
 * Edits a record's values: checks in the browser first, then shows the API's validation messages under their
 * inputs; a stale version (412) offers a reload instead of overwriting someone's change.
 */
export default function RecordForm({ record, fields, save, onSaved, onCancel, onReload, title }: {
  record: RecordView; fields: FieldView[]; title: string;
  save: (record: RecordView, values: Record<string, Value>) => Promise<RecordView>;
  onSaved: (record: RecordView) => void; onCancel?: () => void; onReload: () => void;
}) {
  const [drafts, setDrafts] = useState<Record<string, Draft>>(() => Object.fromEntries(fields.map((f) => [f.key, toDraft(f, record.values[f.key])])));
  const [checked, setChecked] = useState(false);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const clientErrors = Object.fromEntries(fields.map((f) => [f.key, validateDraft(f, drafts[f.key]!)]));
  const apiError = error instanceof ApiError ? error : null;

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setChecked(true);
    if (fields.some((f) => clientErrors[f.key])) return;
    const values = changedValues(fields, record.values, drafts);
    if (Object.keys(values).length === 0) {
      onSaved(record);
      return;
    }
    setSaving(true);
    setError(null);
    try {
      onSaved(await save(record, values));
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  };

  const idPrefix = `r${record.id.slice(0, 8)}`;
  return (
    <form onSubmit={submit} noValidate aria-label={title}>
      {error !== null && (apiError?.code !== 'validation_failed' || apiError.isStale) && <ErrorMessage error={error} onReload={apiError?.isStale ? onReload : undefined} />}
      {apiError?.code === 'validation_failed' && <p role="alert">Some values are not valid; nothing was saved.</p>}
      {fields.map((f) => (
        <FieldInput
          key={f.id}
          idPrefix={idPrefix}
          field={f}
          draft={drafts[f.key]!}
          onChange={(d) => setDrafts((all) => ({ ...all, [f.key]: d }))}
          error={(checked ? clientErrors[f.key] : null) ?? apiErrorsFor(apiError, f.key).join('; ') ?? null}
        />
      ))}
      <div style={{ display: 'flex', gap: 8 }}>
        <Button type="submit" appearance="primary" isLoading={saving}>Save</Button>
        {onCancel && <Button onClick={onCancel}>Cancel</Button>}
      </div>
    </form>
  );
}
