FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir .

# Source stays root-owned so a compromised hub cannot rewrite its own code.
RUN useradd --system --create-home --uid 10001 ketenhub
USER ketenhub

EXPOSE 9464
ENTRYPOINT ["ketenhub"]
CMD ["run"]
