// The plain-data values a pickle may hold, as TypeScript sees them: ints as number (or bigint past
// 2^53, exact), str as string, bytes as Uint8Array, list as Array, and the classes below.
/** A Python tuple (kept distinct from list so round-trips and dict keys stay faithful). */
export class PyTuple {
  constructor(readonly items: PickleValue[]) {}
}

/** builtins.dict and collections.OrderedDict. Int keys are JS numbers (bigint past 2^53). */
export class PyDict extends Map<PickleValue, PickleValue> {}

export type DefaultFactory = 'dict' | 'list' | 'set' | 'tuple' | null;

/** collections.defaultdict with one of the allowed factories (null = `defaultdict(None)`). */
export class PyDefaultDict extends PyDict {
  constructor(
    readonly factory: DefaultFactory,
    entries?: Iterable<readonly [PickleValue, PickleValue]>,
  ) {
    super(entries);
  }
}

/**
 * A plain Python value. int → number when safe, else bigint (exact); float → number;
 * str → string; bytes/bytearray → Uint8Array; list → array; set/frozenset → Set.
 */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PyTuple
  | PyDict
  | Set<PickleValue>;

// ---------------------------------------------------------------------------------------------
// Reader
