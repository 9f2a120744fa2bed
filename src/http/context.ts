import type { ParameterizedContext } from 'koa';
import type { Logger } from '../logging/logger';

/** What our middleware puts on ctx.state for everything downstream. */
export interface AppState {
  requestId: string;
  log: Logger;
}

export type AppContext = ParameterizedContext<AppState>;
