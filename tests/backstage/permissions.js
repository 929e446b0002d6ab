// The test Backstage with the permission framework on, for the assistant's permission tests.
//
// Besides the catalog it runs the permission backend with a small policy (entities tagged `restricted` are
// readable only by members of group:default/security) and the auth backend with a proxy-style provider
// `test-header` that signs in the catalog user named by the `x-test-user` header or the `test-user` cookie,
// issuing real Backstage user tokens (the way an OAuth provider's refresh endpoint does, without the OAuth).
const { createBackend } = require('@backstage/backend-defaults');
const { AuthenticationError } = require('@backstage/errors');
const { createBackendModule } = require('@backstage/backend-plugin-api');
const { policyExtensionPoint } = require('@backstage/plugin-permission-node/alpha');
const { AuthorizeResult, isPermission } = require('@backstage/plugin-permission-common');
const { catalogEntityReadPermission } = require('@backstage/plugin-catalog-common/alpha');
const { catalogConditions, createCatalogConditionalDecision } = require('@backstage/plugin-catalog-backend/alpha');
const {
  authProvidersExtensionPoint,
  createProxyAuthProviderFactory,
  createProxyAuthenticator,
} = require('@backstage/plugin-auth-node');

const READERS = 'group:default/security';
const RESTRICTED_TAG = 'restricted';

class RestrictedTagPolicy {
  async handle(request, user) {
    if (!isPermission(request.permission, catalogEntityReadPermission)) {
      return { result: AuthorizeResult.ALLOW };
    }
    if (user?.info.ownershipEntityRefs.includes(READERS)) {
      return { result: AuthorizeResult.ALLOW };
    }
    return createCatalogConditionalDecision(request.permission, {
      not: catalogConditions.hasMetadata({ key: 'tags', value: RESTRICTED_TAG }),
    });
  }
}

const policyModule = createBackendModule({
  pluginId: 'permission',
  moduleId: 'restricted-tag-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint },
      async init({ policy }) {
        policy.setPolicy(new RestrictedTagPolicy());
      },
    });
  },
});

function cookie(req, name) {
  const pairs = (req.headers.cookie || '').split(';').map(part => part.trim().split('='));
  const found = pairs.find(([key]) => key === name);
  return found ? decodeURIComponent(found[1] || '') : undefined;
}

const headerAuthenticator = createProxyAuthenticator({
  defaultProfileTransform: async result => ({ profile: { displayName: result.user } }),
  initialize() {},
  async authenticate({ req }) {
    const user = req.headers['x-test-user'] || cookie(req, 'test-user');
    if (!user) {
      throw new AuthenticationError('no test user named: send x-test-user or the test-user cookie');
    }
    return { result: { user } };
  },
});

const authModule = createBackendModule({
  pluginId: 'auth',
  moduleId: 'test-header-provider',
  register(reg) {
    reg.registerInit({
      deps: { providers: authProvidersExtensionPoint },
      async init({ providers }) {
        providers.registerProvider({
          providerId: 'test-header',
          factory: createProxyAuthProviderFactory({
            authenticator: headerAuthenticator,
            // The user's token carries their group memberships from the catalog, as real sign-ins do.
            signInResolver: async ({ result }, ctx) => ctx.signInWithCatalogUser({ entityRef: { name: result.user } }),
          }),
        });
      },
    });
  },
});

const backend = createBackend();
backend.add(require('@backstage/plugin-catalog-backend'));
backend.add(require('@backstage/plugin-permission-backend'));
backend.add(policyModule);
backend.add(require('@backstage/plugin-auth-backend'));
backend.add(authModule);
backend.start();
