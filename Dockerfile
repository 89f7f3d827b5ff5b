# Dépêche: the bot. Same command as on a workstation: `depeche run`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# DejaVu fonts draw the timeline picture (accents, French spacing).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 depeche
WORKDIR /app

# Exactly the locked versions (hashes checked), then the project itself without resolving again.
COPY requirements/run.lock ./requirements/run.lock
RUN pip install --require-hashes --no-deps -r requirements/run.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY digests ./digests
RUN pip install --no-deps --no-build-isolation .

# Settings, example subscriptions and extra story files (mount your own over /app/config).
COPY config ./config

USER depeche
EXPOSE 8080
# Without DATABASE_URL the bot uses SQLite under ~/.local/share/depeche (a volume is advised).
CMD ["depeche", "run"]
