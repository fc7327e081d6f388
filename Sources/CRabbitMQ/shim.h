#ifndef GEOREP_CRABBITMQ_H
#define GEOREP_CRABBITMQ_H
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#endif
