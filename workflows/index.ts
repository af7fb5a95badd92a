// Entry point of the workflow bundle (worker/ points `workflowsPath` here).
export { campaignWorkflow } from './campaign';
export { campaignRunWorkflow } from '../delivery/run';
