/** Topic and source under which Copilot.cx analysis consent is recorded (its consent endpoint and, by the rules of state, its default). */
export const COPILOT_TOPIC = "COPILOT_ANALYSIS";
export const COPILOT_SOURCE = "copilot";
