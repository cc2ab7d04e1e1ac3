# Anka's one image: the dashboard (the default command), the scheduler (`python -m jobs`) and
# the migrations (`python manage.py migrate`); docker-compose.yml runs all three from it.

# -- build: the pinned requirements in a virtualenv (every one of them ships a wheel) --------
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

# -- runtime: the virtualenv and the code, owned by root, run by an unprivileged user --------
FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ANKA_ENV=production \
    ANKA_ADDRESS=0.0.0.0 \
    ANKA_HOME_DIR=/home/anka/.anka
RUN groupadd --system --gid 10001 anka \
    && useradd --system --uid 10001 --gid anka --create-home --home-dir /home/anka \
       --shell /usr/sbin/nologin anka
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY alembic.ini manage.py ./
COPY .streamlit ./.streamlit
COPY core ./core
COPY dashboard ./dashboard
COPY jobs ./jobs
COPY migrations ./migrations
USER 10001:10001
EXPOSE 8501
# Streamlit's own health endpoint; the image has no curl, Python asks instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
CMD ["python", "-m", "dashboard", "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true"]
