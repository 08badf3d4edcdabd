"""The core: output schemas, kinds, prompts, grounding and the pipeline that briefs one document."""
