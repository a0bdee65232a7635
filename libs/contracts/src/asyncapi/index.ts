export { asyncApiDocument, asyncApiYaml, channelId } from './asyncapi-document';
export {
  ASYNCAPI_VERSION,
  AsyncApiChannel,
  AsyncApiDocument,
  AsyncApiMessage,
  AsyncApiOperation,
  Ref,
} from './asyncapi-types';
export { HUB_APPS, HubApp, MessageContract, TOPIC_CONTRACTS, TopicContract } from './topic-contracts';
export { JsonSchema } from './payload-schemas';
