#include "CRabbitMQShim.h"

amqp_rpc_reply_t georep_amqp_login_plain(amqp_connection_state_t state,
                                         const char *vhost,
                                         int channel_max,
                                         int frame_max,
                                         int heartbeat,
                                         const amqp_table_t *client_properties,
                                         const char *user,
                                         const char *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat,
                                      client_properties, AMQP_SASL_METHOD_PLAIN, user, password);
}

const amqp_method_number_t georep_method_basic_ack = AMQP_BASIC_ACK_METHOD;
const amqp_method_number_t georep_method_basic_nack = AMQP_BASIC_NACK_METHOD;
const amqp_method_number_t georep_method_basic_return = AMQP_BASIC_RETURN_METHOD;
const amqp_method_number_t georep_method_channel_close = AMQP_CHANNEL_CLOSE_METHOD;
const amqp_method_number_t georep_method_connection_close = AMQP_CONNECTION_CLOSE_METHOD;
