// A real OpenID Connect provider for the tests (tests/oidc_helpers.py starts it): the npm package
// `oidc-provider`, on 127.0.0.1, with one static client, a signing key made at start, and its development
// login form (any login name is accepted; it becomes the account, see findAccount below).
//
// Settings come from the environment:
//   OIDC_PORT           the port (0: any free one); the first line printed is "listening <issuer>"
//   OIDC_CLIENT_ID      the client's id
//   OIDC_CLIENT_SECRET  the client's secret
//   OIDC_REDIRECT_URIS  the client's redirect URIs, separated by spaces
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const env = process.env;
const redirectUris = (env.OIDC_REDIRECT_URIS || '').split(/\s+/).filter(Boolean);
if (!env.OIDC_CLIENT_ID || !env.OIDC_CLIENT_SECRET || !redirectUris.length) {
  console.error('OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_REDIRECT_URIS are required');
  process.exit(2);
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };

// The login name is the account: its e-mail address is the name itself, verified unless the name starts
// with "unverified"; a name starting with "noemail-" has no e-mail claim, only its preferred_username (as a
// Microsoft account may); a name without "@" has neither.
function claimsFor(accountId) {
  const claims = { sub: accountId, name: `Test account ${accountId}` };
  if (accountId.includes('@')) {
    claims.preferred_username = accountId;
    if (!accountId.startsWith('noemail-')) {
      claims.email = accountId;
      claims.email_verified = !accountId.startsWith('unverified');
    }
  }
  return claims;
}

const server = createServer();
server.listen(Number(env.OIDC_PORT || 0), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: env.OIDC_CLIENT_ID,
        client_secret: env.OIDC_CLIENT_SECRET,
        redirect_uris: redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    pkce: { required: () => true },
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    // Scope claims go into the ID token itself, as Google's do (not only to the userinfo endpoint).
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    findAccount: async (ctx, id) => ({ accountId: id, claims: async () => claimsFor(id) }),
    // The client is the installation's own: consent is given at once, as a Workspace administrator would.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  });
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
