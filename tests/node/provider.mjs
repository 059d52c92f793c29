// The performance reference: node oidc-provider (OpenID Certified) with one
// client_credentials client whose access tokens are RS256 JWTs, as close to
// what dangnhap issues as oidc-provider allows. Used by tests/bench/run.sh.
// PORT and CLIENT_SECRET come from the environment.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 3000);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{
    client_id: 'bench',
    client_secret: process.env.CLIENT_SECRET,
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  features: {
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:bench:api',
      getResourceServerInfo: () => ({ scope: 'docs:read', audience: 'urn:bench:api', accessTokenFormat: 'jwt' }),
      useGrantedResource: () => true,
    },
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
