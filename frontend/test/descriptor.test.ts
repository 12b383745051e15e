import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { pages } from '../vite.config';

/**
 * The descriptor's modules against Atlassian's published JSON schemas of Connect modules, as they ship in npm
 * `@forge/manifest` (out/schema/manifest-schema.json, definitions.ModuleSchema: one `connect-jira:<module>`
 * entry per Connect module type). The top-level descriptor fields are not in that schema; they are checked here.
 */
const root = resolve(import.meta.dirname, '../..');
const descriptor = JSON.parse(readFileSync(resolve(root, 'atlassian-connect.json'), 'utf8')) as {
  key: string; baseUrl: string; authentication: { type: string }; scopes: string[]; enableLicensing: boolean;
  apiMigrations: Record<string, boolean>; modules: Record<string, Record<string, unknown>[]>;
};
const schema = JSON.parse(readFileSync(resolve(import.meta.dirname, '../node_modules/@forge/manifest/out/schema/manifest-schema.json'), 'utf8')) as {
  definitions: { ModuleSchema: { properties: Record<string, object> } } & Record<string, unknown>;
};

describe('atlassian-connect.json', () => {
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  ajv.addSchema(schema, 'manifest');
  const moduleTypes = Object.keys(descriptor.modules);

  it('declares the six surfaces and the webhooks', () => {
    expect(moduleTypes.sort()).toEqual(['adminPages', 'generalPages', 'jiraIssueContexts', 'serviceDeskOrganizationPanels', 'serviceDeskPortalProfilePanels', 'serviceDeskPortalRequestViewPanels', 'webhooks']);
  });

  it.each(moduleTypes)('%s validates against the published connect-jira module schema', (type) => {
    const name = `connect-jira:${type}`;
    expect(schema.definitions.ModuleSchema.properties[name], `${name} is in the schema`).toBeDefined();
    const validate = ajv.compile({ $ref: `manifest#/definitions/ModuleSchema/properties/${name.replace(/~/g, '~0').replace(/\//g, '~1')}` });
    const valid = validate(descriptor.modules[type]);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 1)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema is in force: a broken module fails', () => {
    const validate = ajv.compile({ $ref: 'manifest#/definitions/ModuleSchema/properties/connect-jira:generalPages' });
    expect(validate([{ key: 'not a key!', url: '/app/directory.html' }])).toBe(false);
  });

  it('points every page module at a page the frontend builds (webhooks post to the API)', () => {
    const urls = Object.entries(descriptor.modules).filter(([type]) => type !== 'webhooks').flatMap(([, modules]) => modules).map((m) => String((m.url ?? (m.target as { url: string }).url) as string));
    for (const url of urls) {
      const page = /^\/app\/([a-z-]+)\.html/.exec(url)?.[1];
      expect(pages, url).toContain(page);
    }
  });

  it('has the top-level fields Connect requires', () => {
    expect(descriptor.key.length).toBeLessThanOrEqual(64);
    expect(descriptor.baseUrl).toBe('{{APP_BASE_URL}}');
    expect(descriptor.authentication.type).toBe('jwt');
    expect(descriptor.apiMigrations).toEqual({ 'signed-install': true, 'context-qsh': true });
    expect(typeof descriptor.enableLicensing).toBe('boolean');
  });
});
