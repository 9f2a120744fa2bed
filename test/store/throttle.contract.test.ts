import { createTestThrottle, storeContractKinds } from '../support/env';
import { throttleContract } from '../support/throttle-contract';

for (const kind of storeContractKinds()) throttleContract(kind, () => createTestThrottle(kind));
