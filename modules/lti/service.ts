// The LTI module's face: platforms, the tool key, launches, deep linking, roster sync and gradebook scores.
import { createToolKeys } from './keys.js';
import { platformUseCases, type LtiDeps } from './platforms.js';
import { launchUseCases } from './launch.js';
import { deepLinkingUseCases } from './deep-linking.js';
import { platformServices } from './services.js';

export type { LtiDeps } from './platforms.js';
export type { RosterSyncReport } from './services.js';

export function createLtiService(deps: LtiDeps) {
  const keys = createToolKeys(deps);
  const platforms = platformUseCases(deps);
  const launches = launchUseCases(deps);
  const deepLinking = deepLinkingUseCases(deps, keys);
  return {
    /** The tool's key set, published at /lti/jwks.json. */
    jwks: () => keys.jwks(),
    keys,
    ...platforms,
    /** OIDC login initiation: where to send the browser, and the state to bind to it. */
    startLogin: launches.startLogin,
    /** Verify a launch and sign the person in; says where they land. */
    launch: launches.launch,
    ...deepLinking,
    ...platformServices(deps, keys, launches),
  };
}

export type LtiService = ReturnType<typeof createLtiService>;
