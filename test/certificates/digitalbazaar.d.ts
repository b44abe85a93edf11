// The few parts of Digital Bazaar's verifier packages (and jsonld, which they use) the tests call: they ship JavaScript
// without type declarations.
declare module '@digitalbazaar/vc' {
  export function verifyCredential(options: {
    credential: unknown;
    suite: unknown;
    documentLoader: (url: string) => Promise<unknown>;
    checkStatus?: unknown;
    now?: Date | string;
  }): Promise<unknown>;
}

declare module '@digitalbazaar/data-integrity' {
  export class DataIntegrityProof {
    constructor(options: { cryptosuite: unknown; signer?: unknown });
  }
}

declare module '@digitalbazaar/eddsa-jcs-2022-cryptosuite' {
  export function createVerifyCryptosuite(): unknown;
}

declare module '@digitalbazaar/did-method-key' {
  export function driver(): {
    use(options: { multibaseMultikeyHeader: string; fromMultibase: unknown }): void;
    get(options: { url?: string; did?: string }): Promise<Record<string, unknown>>;
  };
}

declare module '@digitalbazaar/ed25519-multikey' {
  export function from(key: unknown): Promise<unknown>;
}

declare module '@digitalbazaar/security-document-loader' {
  export function securityLoader(): {
    addStatic(url: string, document: object): void;
    build(): (url: string) => Promise<unknown>;
  };
}

declare module '@digitalbazaar/vc-bitstring-status-list' {
  export function checkStatus(options: unknown): Promise<{ verified: boolean; results?: Array<{ status: boolean }> }>;
  export function decodeList(options: { encodedList: string }): Promise<{ length: number; getStatus(index: number): boolean }>;
}

declare module 'jsonld' {
  const jsonld: { expand(input: unknown, options: { documentLoader: (url: string) => Promise<unknown>; safe?: boolean }): Promise<unknown[]> };
  export default jsonld;
}
