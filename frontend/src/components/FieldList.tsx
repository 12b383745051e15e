import { token } from '@atlaskit/tokens';
import type { FieldView, Value } from '../api';
import { displayValue } from '../forms';

/** Fields and values as a description list. Values are React text nodes: markup in a value shows as text. */
export function FieldList({ fields, values, testId }: { fields: FieldView[]; values: Record<string, Value>; testId?: string }) {
  if (fields.length === 0) return <p style={{ color: token('color.text.subtlest', '#626F86') }}>No fields.</p>;
  return (
    <dl data-testid={testId} style={{ display: 'grid', gridTemplateColumns: 'minmax(120px, 40%) 1fr', gap: '4px 12px', margin: 0, padding: 0 }}>
      {fields.map((f) => {
        const text = displayValue(f, values[f.key]);
        return (
          <div key={f.id} style={{ display: 'contents' }} data-field={f.key}>
            <dt style={{ margin: 0, color: token('color.text.subtle', '#44546F'), fontWeight: 600 }}>{f.label}</dt>
            <dd style={{ margin: 0, wordBreak: 'break-word', whiteSpace: f.type === 'paragraph' ? 'pre-wrap' : 'normal' }}>
              {text === '' ? <span style={{ color: token('color.text.subtlest', '#626F86') }}>None</span> : text}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}
