# The assistant service. Talks to a Chroma server and an Ollama server (see docker-compose.yaml).
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake git \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Pin torch before anything pulls it in. For a smaller image, pass your CPU-only torch index as a build arg:
# docker compose build --build-arg PIP_EXTRA_INDEX_URL=...
ARG PIP_EXTRA_INDEX_URL
RUN pip install --no-cache-dir torch==2.13.0
COPY pyproject.toml README.md ./
COPY assistant assistant
COPY ingest ingest
COPY ui ui
COPY prompts prompts
COPY examples examples
RUN pip install --no-cache-dir .
ENV ASSISTANT_DATA_DIR=/data \
    ASSISTANT_PROMPTS_DIR=/app/prompts \
    ASSISTANT_HOST=0.0.0.0
EXPOSE 8000
CMD ["assistant", "serve"]
