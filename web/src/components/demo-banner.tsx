/** Says plainly that the replies come from the offline demo model, and how to use a real one. */
export function DemoBanner() {
  return (
    <aside className="demo-banner" role="note" aria-label="Demo model">
      <strong>Offline demo model, not a real LLM.</strong>{' '}
      <span>
        <span className="wide-only">Replies are canned, though the tools are real. </span>To use a real model, restart the server with{' '}
        <code>OPENAI_API_KEY</code>, <code>ANTHROPIC_API_KEY</code> or <code>GROQ_API_KEY</code> set, or with{' '}
        <code>LLM_PROVIDER=openai-compatible</code> and <code>LLM_BASE_URL</code>
        <span className="wide-only"> (Ollama, vLLM…)</span>.
      </span>
    </aside>
  );
}
