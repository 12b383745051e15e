import { AsyncSelect } from '@atlaskit/select';
import type { Api } from '../api';

/** An organization, as a picker offers it. */
export interface OrganizationOption { label: string; value: string }

/** Picks one organization, found by name through the directory search as the agent types. */
export function OrganizationPicker({ api, inputId, labelledBy, value, onChange }: {
  api: Api; inputId: string; labelledBy?: string; value: OrganizationOption | null; onChange: (option: OrganizationOption | null) => void;
}) {
  return (
    <AsyncSelect
      inputId={inputId}
      aria-labelledby={labelledBy}
      defaultOptions
      cacheOptions
      loadOptions={async (input: string) => (await api.search('organization', input, [])).values.map((o) => ({ label: o.name, value: o.id }))}
      value={value}
      onChange={(option) => onChange(option as OrganizationOption | null)}
      placeholder="Find an organization"
    />
  );
}
