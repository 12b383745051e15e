import Checkbox from '@atlaskit/checkbox';
import Select from '@atlaskit/select';
import Textfield from '@atlaskit/textfield';
import TextArea from '@atlaskit/textarea';
import { token } from '@atlaskit/tokens';
import type { FieldView } from '../api';
import type { Draft } from '../forms';

type Option = { label: string; value: string };

/** The input for one field, with its label and its error (from the browser's check or the API's answer). */
export function FieldInput({ field, draft, onChange, error, idPrefix }: { field: FieldView; draft: Draft; onChange: (d: Draft) => void; error?: string | null; idPrefix: string }) {
  const id = `${idPrefix}-${field.key}`;
  const errorId = `${id}-error`;
  const describedBy = error ? errorId : undefined;
  const options: Option[] = (field.options ?? []).filter((o) => !o.retired || (Array.isArray(draft) ? draft.includes(o.id) : draft === o.id)).map((o) => ({ label: o.label, value: o.id }));
  const label = (
    <label htmlFor={id} style={{ display: 'block', fontWeight: 600, marginBottom: 4, color: token('color.text.subtle', '#44546F') }}>
      {field.label}
      {field.required && <span aria-hidden="true" style={{ color: token('color.text.danger', '#AE2E24') }}> *</span>}
    </label>
  );
  let input;
  switch (field.type) {
    case 'checkbox':
      return (
        <div style={{ marginBottom: 12 }}>
          <Checkbox id={id} label={field.label} isChecked={draft === true} onChange={(e) => onChange(e.target.checked)} aria-describedby={describedBy} />
          {error && <Error id={errorId} text={error} />}
        </div>
      );
    case 'select':
      input = (
        <Select<Option>
          inputId={id}
          aria-describedby={describedBy}
          options={options}
          isClearable={!field.required}
          value={options.find((o) => o.value === draft) ?? null}
          onChange={(o) => onChange(o ? (o as Option).value : '')}
          placeholder="Choose…"
          menuPortalTarget={document.body}
          styles={{ menuPortal: (base) => ({ ...base, zIndex: 9999 }) }}
        />
      );
      break;
    case 'multi-select':
      input = (
        <Select<Option, true>
          inputId={id}
          isMulti
          aria-describedby={describedBy}
          options={options}
          value={options.filter((o) => Array.isArray(draft) && draft.includes(o.value))}
          onChange={(list) => onChange((list ?? []).map((o) => o.value))}
          placeholder="Choose…"
          menuPortalTarget={document.body}
          styles={{ menuPortal: (base) => ({ ...base, zIndex: 9999 }) }}
        />
      );
      break;
    case 'paragraph':
      input = <TextArea id={id} aria-describedby={describedBy} value={String(draft)} onChange={(e) => onChange(e.target.value)} isInvalid={!!error} minimumRows={3} />;
      break;
    default:
      input = (
        <Textfield
          id={id}
          aria-describedby={describedBy}
          value={String(draft)}
          isInvalid={!!error}
          onChange={(e) => onChange((e.target as HTMLInputElement).value)}
          type={field.type === 'date' ? 'date' : field.type === 'email' ? 'email' : field.type === 'url' ? 'url' : field.type === 'phone' ? 'tel' : 'text'}
          inputMode={field.type === 'number' ? 'decimal' : undefined}
        />
      );
  }
  return (
    <div style={{ marginBottom: 12 }}>
      {label}
      {input}
      {error && <Error id={errorId} text={error} />}
    </div>
  );
}

function Error({ id, text }: { id: string; text: string }) {
  return (
    <p id={id} style={{ color: token('color.text.danger', '#AE2E24'), margin: '4px 0 0' }}>
      {text}
    </p>
  );
}
