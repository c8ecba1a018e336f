export { createOperatorHandler, type OperatorHandler, type OperatorHandlerOptions, type OperatedChain } from './operatorHandler.js';
