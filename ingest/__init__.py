"""Sources of portal knowledge and the pipeline that syncs them into the knowledge base."""
