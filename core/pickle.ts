// Python pickle for plain data (SPEC §3): a strict reader that refuses anything but plain data, and
// a writer for synthetic fixtures. One concept per file under core/pickle/.
export { PyDefaultDict, PyDict, PyTuple, type DefaultFactory, type PickleValue } from './pickle/values.ts';
export { readPickle } from './pickle/read.ts';
export { writePickle, type WritePickleOptions } from './pickle/write.ts';
