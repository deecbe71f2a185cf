// A local OpenID Provider for pb_vote's tests and demo: panva's certified oidc-provider,
// serving a few test persons. Usage:
//   node provider.js --port 9400 [--tag bank] [--client-id pb-vote] [--client-secret S]
// Sign in on its login page with a person's name (aino, bertil, ella, olli, eino) and any
// password.
// The tests tell it to misbehave with POST /_test/mode {"mode": ...}: "normal",
// "bad_signature" (its JWKS lists a key that did not sign the ID token), "wrong_nonce" (the
// ID token carries another nonce than the client sent) or "expired" (the ID token expired).
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '9400' },
    host: { type: 'string', default: '127.0.0.1' },
    tag: { type: 'string', default: 'local' },
    'client-id': { type: 'string', default: 'pb-vote' },
    'client-secret': { type: 'string', default: 'pb-vote-test-secret' },
  },
});

// Test persons. The personal identity codes are made up (individual numbers 900-999 are
// never given to real people). Each provider gives its own `sub`, as real ones do; the
// identity code is the same person's whatever the provider.
const PERSONS = {
  aino: { hetu: '150380-901N', given_name: 'Aino', family_name: 'Virtanen',
    birthdate: '1980-03-15', postal_code: '15100' },
  bertil: { hetu: '021192-913T', given_name: 'Bertil', family_name: 'Lindqvist',
    birthdate: '1992-11-02', postal_code: '15110' },
  ella: { hetu: '300915A9026', given_name: 'Ella', family_name: 'Nieminen',
    birthdate: '2015-09-30', postal_code: '15100' },
  olli: { hetu: '010175-9304', given_name: 'Olli', family_name: 'Korhonen',
    birthdate: '1975-01-01', postal_code: null },
  eino: { hetu: '120688-921W', given_name: 'Eino', family_name: 'Mäkelä',
    birthdate: '1988-06-12', postal_code: '15300' },
};

let mode = 'normal';
const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ format: 'jwk' });
const strangerKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
  .publicKey.export({ format: 'jwk' });
signingKey.kid = `${args.tag}-signing`;
strangerKey.kid = `${args.tag}-signing`; // the same kid: only the signature tells them apart

// A test provider: any http(s) redirect URI is accepted, since the tests' servers take free
// ports and the test client's host is pb.test. A real provider registers exact URIs.
const isWeb = (uri) => {
  try {
    return ['http:', 'https:'].includes(new URL(uri).protocol);
  } catch {
    return false;
  }
};

const configuration = {
  clients: [{
    client_id: args['client-id'],
    client_secret: args['client-secret'],
    redirect_uris: ['http://127.0.0.1/'],
    post_logout_redirect_uris: [],
    response_types: ['code'],
    grant_types: ['authorization_code'],
  }],
  jwks: { keys: [signingKey] },
  pkce: { required: () => true },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    profile: ['given_name', 'family_name', 'birthdate'],
    address: ['address'],
    personal_identity_code: ['hetu'],
  },
  scopes: ['openid', 'profile', 'address', 'personal_identity_code'],
  features: { devInteractions: { enabled: true } },
  ttl: { IdToken: 600, AccessToken: 600, AuthorizationCode: 60, Interaction: 600,
    Session: 600, Grant: 600 },
  async findAccount(ctx, id) {
    const person = PERSONS[id];
    if (!person) return undefined;
    return {
      accountId: id,
      async claims() {
        const claims = { sub: `${args.tag}-${id}`, hetu: person.hetu,
          given_name: person.given_name, family_name: person.family_name,
          birthdate: person.birthdate };
        if (person.postal_code) claims.address = { postal_code: person.postal_code, country: 'FI' };
        return claims;
      },
    };
  },
  // First-party test client: no consent page, every scope asked for is granted.
  async loadExistingGrant(ctx) {
    const { client, session, params } = ctx.oidc;
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId,
      accountId: session.accountId });
    grant.addOIDCScope(params.scope || 'openid');
    await grant.save();
    return grant;
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html lang="en"><title>Error</title><h1>${out.error}</h1>
      <p>${out.error_description || ''}</p></html>`;
  },
};

const provider = new Provider(`http://${args.host}:${args.port}`, configuration);
provider.Client.prototype.redirectUriAllowed = function allowed(uri) {
  return isWeb(uri);
};

provider.use(async (ctx, next) => {
  if (ctx.path === '/_test/mode' && ctx.method === 'POST') {
    let body = '';
    for await (const chunk of ctx.req) body += chunk;
    mode = JSON.parse(body || '{}').mode || 'normal';
    ctx.body = { mode };
    return undefined;
  }
  if (ctx.path === '/_test/persons') {
    ctx.body = Object.keys(PERSONS);
    return undefined;
  }
  if (mode === 'wrong_nonce' && ctx.path === '/auth' && ctx.query.nonce) {
    ctx.query = { ...ctx.query, nonce: 'not-the-nonce-the-client-sent' };
  }
  if (mode === 'expired' && ctx.path === '/token') {
    // The token endpoint runs two hours ago: its ID token expired an hour before now.
    const realNow = Date.now;
    Date.now = () => realNow() - 2 * 3600 * 1000;
    try {
      return await next();
    } finally {
      Date.now = realNow;
    }
  }
  await next();
  if (mode === 'bad_signature' && ctx.path === '/jwks') {
    ctx.body = { keys: [strangerKey] };
  }
  return undefined;
});

provider.listen(Number(args.port), args.host, () => {
  console.log(`oidc-provider ${args.tag} listening on http://${args.host}:${args.port}`);
});
