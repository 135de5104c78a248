# One image, three programs: `overcast api-server`, `overcast operator`, `overcast node-agent`.
FROM node:20-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 compiles when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY lib lib
COPY api-server api-server
COPY operator operator
COPY node-agent node-agent
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
# The node-agent drives these tools on the host (QEMU, Open vSwitch, namespaces, NAT, DHCP).
RUN apt-get update && apt-get install -y --no-install-recommends \
      openvswitch-switch iproute2 iptables dnsmasq-base qemu-system-x86 qemu-utils ethtool \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/overcast
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
COPY package.json ./
COPY bin bin
ENV NODE_ENV=production
EXPOSE 5000
ENTRYPOINT ["/opt/overcast/bin/overcast"]
CMD ["--help"]
