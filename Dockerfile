# RMS Billing API image. Not exercised by CI (no Docker engine there); see docker-compose.yml.
#
#   docker build -t rms-billing .
#   docker run -e ENV=prod -e JWT_SECRET=... -e PAYMENT_SECRET_KEYS=... -e DATABASE_URL=postgresql+asyncpg://rms_app:...@db/rms \
#              -e EMAIL_LINK_BASE=https://app.example.in/account -p 8000:8000 rms-billing
#
# The image serves only: migrations run separately (`python -m app migrate`, the compose `migrate`
# service) as the owner role, and the API connects as the application role.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so code changes do not reinstall them. Every runtime dependency ships a
# manylinux wheel (asyncpg, bcrypt, cryptography, uvloop, httptools): no compiler needed.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY alembic.ini ./
COPY alembic ./alembic
COPY app ./app

# A non-root user that owns nothing but its writable data directory (the .eml outbox, used only
# when SMTP_HOST is unset).
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin rms \
    && mkdir -p /app/.data/outbox \
    && chown -R rms:rms /app/.data
USER rms

# Settings are read from the environment (see .env.example). HOST=0.0.0.0 so the port is reachable
# from outside the container; WEB_CONCURRENCY (uvicorn worker processes) unset = one per CPU the
# container may run on (--cpuset-cpus narrows it; a --cpus quota does not: set it then).
ENV ENV=prod \
    HOST=0.0.0.0 \
    PORT=8000 \
    LOG_LEVEL=INFO \
    OUTBOX_DIR=/app/.data/outbox

EXPOSE 8000

# Liveness: /health answers without touching the database (readiness is /ready). No curl in the
# slim image, so Python's urllib; a non-2xx answer or no answer raises and exits non-zero.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]

# --no-migrate: migrations are the migrate service's job, as the owner role.
# --no-demo: never create the demo tenant (its password is public) in a shipped image.
CMD ["python", "-m", "app", "serve", "--no-migrate", "--no-demo"]
