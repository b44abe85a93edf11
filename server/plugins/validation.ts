// Our own schema validators, so the plugin is strict whatever the host app's Ajv settings:
// JSON bodies are taken as sent (no type coercion, unknown fields refused); path and query strings are coerced.
// Text with a NUL character (U+0000) is refused everywhere: PostgreSQL cannot store it, and no person types one.
import fp from 'fastify-plugin';
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { NotFound } from '../errors.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: false, useDefaults: true, removeAdditional: false, strict: false, ...options });
  addFormats(ajv);
  return ajv;
}

/** Where in a parsed body or query the first NUL character is, as a JSON pointer, or null. Iterative: a body
 * nested thousands deep (refused by its schema next) must not overflow the stack here. */
export function nulAt(value: unknown): string | null {
  const pending: Array<[unknown, string]> = [[value, '']];
  while (pending.length) {
    const [item, path] = pending.pop()!;
    if (typeof item === 'string') {
      if (item.includes('\u0000')) return path;
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) pending.push([child, `${path}/${key}`]);
    }
  }
  return null;
}

/** The schema's validator, refusing NUL characters first with an error shaped like Ajv's own. */
function refuseNul(validate: ValidateFunction): ValidateFunction {
  const check = ((data: unknown, ctx?: unknown) => {
    const at = nulAt(data);
    if (at !== null) {
      const error: ErrorObject = { instancePath: at, schemaPath: '#', keyword: 'nul', params: {}, message: 'must not contain the NUL character (U+0000)' };
      check.errors = [error];
      return false;
    }
    const ok = (validate as (d: unknown, c?: unknown) => boolean)(data, ctx);
    check.errors = validate.errors;
    return ok;
  }) as ValidateFunction;
  // Fastify passes the parent object (so Ajv may coerce a root value) when the validator carries schemaEnv.
  Object.assign(check, { schemaEnv: validate.schemaEnv, schema: validate.schema });
  return check;
}

export default fp(
  async (fastify) => {
    const body = makeAjv({ coerceTypes: false });
    const strings = makeAjv({ coerceTypes: 'array' });
    fastify.setValidatorCompiler(({ schema, httpPart }) => refuseNul((httpPart === 'body' ? body : strings).compile(schema)));
    // Pages attach body errors to show them on the form; a path naming no possible record (an id beyond the
    // database's integer range, say) is a page that does not exist, whatever the route does with the body.
    fastify.addHook('preHandler', async (request) => {
      if (request.validationError && (request.validationError as { validationContext?: string }).validationContext === 'params') throw new NotFound('Page');
    });
  },
  { name: 'validation' },
);
