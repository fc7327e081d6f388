#ifndef GEOREP_CRABBITMQ_SHIM_H
#define GEOREP_CRABBITMQ_SHIM_H

#include <amqp.h>
#include <amqp_framing.h>

/// Swift cannot call C variadic functions, and `amqp_login_with_properties` is one:
/// this wraps it for SASL PLAIN (user + password), the only method the service uses.
amqp_rpc_reply_t georep_amqp_login_plain(amqp_connection_state_t state,
                                         const char *vhost,
                                         int channel_max,
                                         int frame_max,
                                         int heartbeat,
                                         const amqp_table_t *client_properties,
                                         const char *user,
                                         const char *password);

/// Method ids as plain constants: the header defines them as casts, which Swift does not import.
extern const amqp_method_number_t georep_method_basic_ack;
extern const amqp_method_number_t georep_method_basic_nack;
extern const amqp_method_number_t georep_method_basic_return;
extern const amqp_method_number_t georep_method_channel_close;
extern const amqp_method_number_t georep_method_connection_close;

#endif
