// Validates a Forge manifest with Atlassian's own validator (npm @forge/manifest: the JSON schema plus its
// semantic checks for Connect keys, remotes, scopes and modules). Prints a JSON result on stdout:
// {"valid": true|false, "errors": [...], "manifest": <the parsed YAML>}. Usage: node validate-manifest.mjs path/to/manifest.yml
import path from "node:path";
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { validate } = require("@forge/manifest");
const YAML = require("yaml");
import fs from "node:fs";

const file = path.resolve(process.argv[2]);
const result = await validate(false, file);
const errors = (result.errors || []).map((e) => ({ message: e.message, reference: e.reference, level: e.level }));
const manifest = YAML.parse(fs.readFileSync(file, "utf8"));
console.log(JSON.stringify({ valid: Boolean(result.success), errors, manifest }));
