// The SQLite engine passes the storage contracts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../gateway/store/index.js';
import { storeContract } from './contract.js';
import { reportStoreContract } from './reportContract.js';

let dir = '';
storeContract('sqlite', {
  create() {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-store-'));
    return openSqliteStore({ file: path.join(dir, 'gateway.sqlite') });
  },
  reopen: () => openSqliteStore({ file: path.join(dir, 'gateway.sqlite') }),
  dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
});

reportStoreContract('sqlite', {
  create() {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-store-'));
    return openSqliteStore({ file: path.join(dir, 'gateway.sqlite') });
  },
  reopen: () => openSqliteStore({ file: path.join(dir, 'gateway.sqlite') }),
  dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
});
