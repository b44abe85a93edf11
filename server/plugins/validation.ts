// Our own schema validators, so the plugin is strict whatever the host app's Ajv settings:
// JSON bodies are taken as sent (no type coercion, unknown fields refused); path and query strings are coerced.
import fp from 'fastify-plugin';
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: false, useDefaults: true, removeAdditional: false, strict: false, ...options });
  addFormats(ajv);
  return ajv;
}

export default fp(
  async (fastify) => {
    const body = makeAjv({ coerceTypes: false });
    const strings = makeAjv({ coerceTypes: 'array' });
    fastify.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? body : strings).compile(schema));
  },
  { name: 'validation' },
);
