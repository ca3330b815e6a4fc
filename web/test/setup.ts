import '@testing-library/jest-dom/vitest';
import { afterEach } from 'vitest';
import { cleanup, configure } from '@testing-library/react';

// findBy*/waitFor poll for a condition; on a loaded machine a render can take seconds, so the
// deadline is generous (the default is 1 s). Nothing here measures speed.
configure({ asyncUtilTimeout: 15_000 });

afterEach(() => {
  cleanup();
  if (typeof localStorage !== 'undefined') localStorage.clear();
});
