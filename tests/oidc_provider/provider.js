// A local OpenID Provider for pb_vote's tests and demo: panva's certified oidc-provider,
// serving a few test persons. Usage:
//   node provider.js --port 9400 [--tag bank] [--client-id pb-vote] [--client-secret S]
// Sign in on its login page with a person's name (aino, bertil, ella, olli, eino; the city's
// staff kaisa, and ulla, whose address the directory never confirmed) and any password.
// The tests tell it to misbehave with POST /_test/mode {"mode": ...}: "normal",
// "bad_signature" (its JWKS lists a key that did not sign the ID token), "wrong_nonce" (the
// ID token carries another nonce than the client sent) or "expired" (the ID token expired);
// or to say the person signed in with several factors: "mfa" (amr lists "mfa") or
// "mfa_acr" (acr is "urn:test:loa:mfa", amr does not list "mfa").
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
  // The city's own directory (the staff provider): work addresses, one not confirmed.
  kaisa: { hetu: '240470-931D', given_name: 'Kaisa', family_name: 'Koski',
    birthdate: '1970-04-24', postal_code: '15110', email: 'Kaisa.Koski@lahti.example' },
  ulla: { hetu: '050585-9427', given_name: 'Ulla', family_name: 'Saari',
    birthdate: '1985-05-05', postal_code: '15100', email: 'ulla.saari@lahti.example',
    email_verified: false },
};
// Everyone else's address, confirmed: <name>@example.org.
for (const [id, person] of Object.entries(PERSONS)) {
  person.email ??= `${id}@example.org`;
  person.email_verified ??= true;
}

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
    // acr and amr in every ID token whose login set them (the "mfa" modes), as Entra ID does
    openid: ['sub', 'acr', 'amr'],
    profile: ['given_name', 'family_name', 'birthdate', 'preferred_username'],
    email: ['email', 'email_verified'],
    address: ['address'],
    personal_identity_code: ['hetu'],
  },
  scopes: ['openid', 'profile', 'email', 'address', 'personal_identity_code'],
  acrValues: ['urn:test:loa:pwd', 'urn:test:loa:mfa'],
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
          birthdate: person.birthdate, email: person.email,
          email_verified: person.email_verified, preferred_username: person.email };
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

// In the "mfa" modes the login says which factors the person used, as a directory with
// multi-factor sign-in does (RFC 8176 amr values; an acr of the city's own).
const interactionFinished = provider.interactionFinished.bind(provider);
provider.interactionFinished = (req, res, result, options) => {
  if (result.login && mode === 'mfa') result.login = { ...result.login, amr: ['pwd', 'mfa'] };
  if (result.login && mode === 'mfa_acr') {
    result.login = { ...result.login, amr: ['pwd', 'otp'], acr: 'urn:test:loa:mfa' };
  }
  return interactionFinished(req, res, result, options);
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
