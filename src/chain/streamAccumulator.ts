import type { FinishReason, ProviderResponse, ReasoningBlock, StreamEvent, ToolCall, Usage } from '../request/types.js';

/** Builds the final answer out of stream events (text, tool-call deltas by index, usage, finish). */
export class StreamAccumulator {
  text = '';
  private readonly calls = new Map<number, { id: string; name: string; arguments: string }>();
  usage: Usage | undefined;
  finishReason: FinishReason | undefined;
  model: string | undefined;
  responseId: string | undefined;
  reasoning = '';
  reasoningBlocks: ReasoningBlock[] | undefined;

  add(event: StreamEvent): void {
    switch (event.type) {
      case 'text':
        this.text += event.delta;
        break;
      case 'tool_call': {
        const call = this.calls.get(event.index) ?? { id: '', name: '', arguments: '' };
        if (event.id) call.id = event.id;
        if (event.name) call.name = event.name;
        call.arguments += event.argumentsDelta;
        this.calls.set(event.index, call);
        break;
      }
      case 'usage':
        this.usage = event.usage;
        break;
      case 'reasoning':
        this.reasoning += event.delta;
        break;
      case 'finish':
        this.finishReason = event.finishReason;
        if (event.model) this.model = event.model;
        if (event.responseId) this.responseId = event.responseId;
        if (event.reasoningBlocks) this.reasoningBlocks = event.reasoningBlocks;
        break;
      case 'reset':
        break;
    }
  }

  get toolCalls(): ToolCall[] {
    return [...this.calls.entries()].sort(([a], [b]) => a - b).map(([, c]) => c);
  }

  response(fallbackModel: string): ProviderResponse {
    return {
      text: this.text,
      toolCalls: this.toolCalls,
      finishReason: this.finishReason ?? 'other',
      ...(this.usage && { usage: this.usage }),
      model: this.model ?? fallbackModel,
      ...(this.responseId && { responseId: this.responseId }),
      ...(this.reasoning !== '' && { reasoning: this.reasoning }),
      ...(this.reasoningBlocks && { reasoningBlocks: this.reasoningBlocks }),
    };
  }
}
