// possibleTypes of the API's interfaces (Node, Event), from the schema.
import generated from './generated/possibleTypes.js';

/** Concrete types of each interface: `new InMemoryCache({ possibleTypes })`, Graphcache's `possibleTypes`. */
export const possibleTypes: Record<string, string[]> = generated.possibleTypes;
