// A real OpenID Connect provider for the tests (npm `oidc-provider`, OpenID-certified), started by
// `peers::Oidc` in tests/src/peers/oidc.rs. It listens on 127.0.0.1 on a free port and prints
// `issuer <URL>` on stdout once it accepts requests.
//
// Test-only additions, all in one middleware: every interaction (login and consent) is approved at
// once for the account `test-user`, so a "browser" is `curl -L` with a cookie jar; and
// GET /test/counts answers how many token requests of each grant type were answered. The counts live
// in this one event loop, so an answer covers every token response a client has already received.
// GET /test/issued lists every secret the provider handed out (authorization codes, access, refresh
// and ID tokens), one per line, for the tests that grep a client's output for them; it is recorded
// in the same event loop, before the response that carries the secret is sent.
//
// Besides the public client `rattler` there is a confidential client `rattler-confidential`
// (`client_secret_basic`) with the same grants, whose refresh tokens rotate too.
//
// Settings come from the environment: OIDC_PROVIDER_PREFIX (where `npm install --prefix` put the
// package, and where the signing key is kept), OIDC_ACCESS_TOKEN_TTL (seconds, default 3600) and
// OIDC_RESOURCE_SERVER_SECRET (the resource server's secret, for introspection) and
// OIDC_CONFIDENTIAL_CLIENT_SECRET (the secret of `rattler-confidential`).

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// ES modules ignore NODE_PATH: resolve the package from the install prefix the harness passes.
const prefix = process.env.OIDC_PROVIDER_PREFIX;
const require = createRequire(join(resolve(prefix), 'node_modules', 'package.json'));
const { default: Provider } = await import(pathToFileURL(require.resolve('oidc-provider')).href);

const ACCOUNT = 'test-user';
const accessTokenTtl = Number(process.env.OIDC_ACCESS_TOKEN_TTL || 3600);
const resourceServerSecret = process.env.OIDC_RESOURCE_SERVER_SECRET || 'resource-server-secret';
const CONFIDENTIAL_CLIENT = 'rattler-confidential';
const confidentialClientSecret =
  process.env.OIDC_CONFIDENTIAL_CLIENT_SECRET || 'confidential-client-secret';
const LOGIN_CLIENTS = ['rattler', CONFIDENTIAL_CLIENT];

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

// The signing key is made once per install and kept beside the package. Making an RSA key is the
// one costly step of a start (0.1 to 0.7 s of CPU here), and the tests start a provider many
// times. Once, in CI, a start hung for 60 s between the package's two start-up warnings, which
// is where the key used to be made. Whoever first finds no key writes one to a file of its own and renames it into
// place, so providers starting at once never read half a key.
const keyFile = join(resolve(prefix), 'test-signing-key.json');
function loadOrMakeSigningKey() {
  let text;
  try {
    text = readFileSync(keyFile, 'utf8');
  } catch (err) {
    if (err.code !== 'ENOENT') {
      throw err;
    }
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };
    const own = `${keyFile}.${process.pid}`;
    writeFileSync(own, JSON.stringify(key), { mode: 0o600 });
    renameSync(own, keyFile);
    return key;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${keyFile} is not the JSON of a key (${err.message}); delete it, and the next start makes a new one`);
  }
}
const signingKey = loadOrMakeSigningKey();

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'rattler',
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      grant_types: [
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code',
      ],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    },
    {
      client_id: CONFIDENTIAL_CLIENT,
      client_secret: confidentialClientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      application_type: 'native',
      grant_types: [
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code',
      ],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    },
    {
      client_id: 'resource-server',
      client_secret: resourceServerSecret,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  features: {
    devInteractions: { enabled: false },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
  },
  pkce: { required: () => true },
  clockTolerance: 0,
  ttl: {
    AccessToken: accessTokenTtl,
    AuthorizationCode: 60,
    DeviceCode: 600,
    Grant: 86400,
    IdToken: 3600,
    Interaction: 600,
    RefreshToken: 86400,
    Session: 86400,
  },
  issueRefreshToken: (_ctx, client) => LOGIN_CLIENTS.includes(client.clientId),
  // The package's default (rotate for public clients, or late in a token's life), and always for
  // the confidential client, so that its refreshes also replace the refresh token.
  rotateRefreshToken: (ctx) => {
    const { RefreshToken: refreshToken, Client: client } = ctx.oidc.entities;
    if (refreshToken.totalLifetime() >= 365.25 * 24 * 60 * 60) {
      return false;
    }
    if (client.clientId === CONFIDENTIAL_CLIENT) {
      return true;
    }
    if (client.clientAuthMethod === 'none' && !refreshToken.isSenderConstrained()) {
      return true;
    }
    return refreshToken.ttlPercentagePassed() >= 70;
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});

const counts = { success: {}, error: {} };
function count(kind, ctx) {
  const grantType = ctx?.oidc?.params?.grant_type || 'unknown';
  counts[kind][grantType] = (counts[kind][grantType] || 0) + 1;
}
provider.on('grant.success', (ctx) => count('success', ctx));

const issued = [];
provider.on('authorization.success', (_ctx, out) => {
  if (out?.code) {
    issued.push(out.code);
  }
});
provider.on('grant.success', (ctx) => {
  for (const field of ['access_token', 'refresh_token', 'id_token']) {
    if (typeof ctx.body?.[field] === 'string') {
      issued.push(ctx.body[field]);
    }
  }
});
provider.on('grant.error', (ctx) => count('error', ctx));

provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/test/counts') {
    // `?grant_type=G&outcome=success|error`: one number, as text; no parameters: every count.
    const { grant_type: grantType, outcome } = ctx.query;
    ctx.body = grantType ? String(counts[outcome || 'success'][grantType] || 0) : counts;
    return;
  }
  if (ctx.method === 'GET' && ctx.path === '/test/issued') {
    ctx.type = 'text/plain';
    ctx.body = issued.map((secret) => `${secret}\n`).join('');
    return;
  }
  const interaction = /^\/interaction\/([^/]+)$/.exec(ctx.path);
  if (ctx.method === 'GET' && interaction) {
    // Approve at once as the fixed account, granting whatever the client asked for.
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { prompt, params } = details;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: ACCOUNT, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) {
      grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    }
    if (prompt.details.missingOIDCClaims) {
      grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    }
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes || {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    const returnTo = await provider.interactionResult(
      ctx.req,
      ctx.res,
      { login: { accountId: ACCOUNT }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
    ctx.redirect(returnTo);
    return;
  }
  await next();
});

server.on('request', provider.callback());
process.stdout.write(`issuer ${issuer}\n`);
