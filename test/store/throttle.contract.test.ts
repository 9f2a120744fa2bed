import { createTestThrottle, storeKinds } from '../support/env';
import { throttleContract } from '../support/throttle-contract';

for (const kind of storeKinds()) throttleContract(kind, () => createTestThrottle(kind));
