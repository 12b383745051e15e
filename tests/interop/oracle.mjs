// Interop oracle: reads one JSON request per line on stdin, answers one JSON line on stdout, using
// Atlassian's atlassian-jwt. The C# tests drive it (tests/Shared/AtlassianJwtOracle.cs).
import readline from 'node:readline';
import * as jwt from 'atlassian-jwt';

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  let answer;
  try {
    answer = handle(JSON.parse(line));
  } catch (e) {
    answer = { error: String(e && e.message ? e.message : e) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});

function handle(req) {
  switch (req.op) {
    case 'canonical': {
      const r = jwt.fromMethodAndUrl(req.method, req.url);
      return {
        canonical: jwt.createCanonicalRequest(r, false, req.baseUrl),
        qsh: jwt.createQueryStringHash(r, false, req.baseUrl),
      };
    }
    case 'sign': {
      const claims = { ...req.claims };
      if (req.method) {
        claims.qsh = jwt.createQueryStringHash(jwt.fromMethodAndUrl(req.method, req.url), false, req.baseUrl);
      }
      return { token: jwt.encodeSymmetric(claims, req.secret, 'HS256') };
    }
    case 'verify': {
      const payload = jwt.decodeSymmetric(req.token, req.secret, 'HS256');
      const expected = jwt.createQueryStringHash(jwt.fromMethodAndUrl(req.method, req.url), false, req.baseUrl);
      return { payload, qshMatches: payload.qsh === expected };
    }
    default:
      return { error: 'unknown op ' + req.op };
  }
}
