import { fileURLToPath } from 'node:url';
import { libraryConfig } from '../lib.vite';

export default libraryConfig(fileURLToPath(new URL('.', import.meta.url)));
