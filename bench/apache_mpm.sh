# Sourced by bench/run.sh and bench/static.sh: the Apache process and keep-alive settings
# both give Apache, so its rows in either script come from the same configuration.
# 34 children up front (wrk's 32 connections plus spares), at most 64, none recycled.
apache_mpm_lines() {
  cat <<'CONF'
StartServers 34
MinSpareServers 34
MaxSpareServers 64
ServerLimit 64
MaxRequestWorkers 64
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 5
CONF
}
