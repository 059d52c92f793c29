// A relying party built on openid-client (OpenID Certified), driven by the
// Rust test `node_openid_client_completes_the_flow`: discovery, sign-in
// through the HTML form, code + PKCE exchange with ID-token validation,
// userinfo, refresh, revocation and RP-initiated logout. Prints one JSON line.
import * as client from 'openid-client';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const ISSUER = env('ISSUER');
const REDIRECT = env('REDIRECT');

const config = await client.discovery(
  new URL(ISSUER),
  env('CLIENT_ID'),
  undefined,
  client.ClientSecretBasic(env('CLIENT_SECRET')),
  { execute: [client.allowInsecureRequests] },
);

// A browser with a cookie jar that shows us each redirect.
const jar = new Map();
async function browse(url, init = {}) {
  const headers = new Headers(init.headers);
  if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    jar.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return res;
}
const hidden = (html, name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1];

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: REDIRECT,
  scope: 'openid email profile',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});

let res = await browse(authUrl);
const loginUrl = new URL(res.headers.get('location'), ISSUER);
const html = await (await browse(loginUrl)).text();
res = await browse(new URL('/login', ISSUER), {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({
    csrf: hidden(html, 'csrf'),
    req: hidden(html, 'req'),
    account: env('ACCOUNT'),
    password: env('PASSWORD'),
  }),
});
const back = new URL(res.headers.get('location'));

const tokens = await client.authorizationCodeGrant(config, back, {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
await client.tokenRevocation(config, refreshed.refresh_token);
let revoked = false;
try {
  await client.refreshTokenGrant(config, refreshed.refresh_token);
} catch (e) {
  revoked = e.error === 'invalid_grant';
}
const endUrl = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token,
  post_logout_redirect_uri: env('BYE'),
  state: 'bye-1',
});
res = await browse(endUrl);

console.log(JSON.stringify({
  sub: claims.sub,
  email: claims.email,
  name: claims.name,
  userinfo_email: info.email,
  rotated: refreshed.refresh_token !== tokens.refresh_token,
  refreshed_id_token_sub: refreshed.claims()?.sub,
  revoked,
  logout_status: res.status,
  logout_location: res.headers.get('location'),
}));
