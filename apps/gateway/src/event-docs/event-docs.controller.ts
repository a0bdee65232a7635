import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AsyncApiDocument, asyncApiDocument, asyncApiYaml } from '@sync-hub/contracts';
import { eventDocsPage } from './event-docs.page';

/** The page has no script and loads nothing: it may not run any, nor load from anywhere. */
const PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/**
 * The AsyncAPI document of the hub's topics, as this version's contracts generate it (the same as docs/asyncapi.yaml):
 * a readable page, the YAML and the JSON. Open, as the REST API's /docs is.
 */
@ApiExcludeController()
@Controller('docs/events')
export class EventDocsController {
  private built?: { document: AsyncApiDocument; yaml: string; page: string };

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', PAGE_POLICY)
  page(): string {
    return this.docs().page;
  }

  @Get('asyncapi.yaml')
  @Header('content-type', 'application/yaml; charset=utf-8')
  yaml(): string {
    return this.docs().yaml;
  }

  @Get('asyncapi.json')
  json(): AsyncApiDocument {
    return this.docs().document;
  }

  /** Built on first use: the contracts do not change while the process runs. */
  private docs(): { document: AsyncApiDocument; yaml: string; page: string } {
    if (!this.built) {
      const document = asyncApiDocument();
      this.built = { document, yaml: asyncApiYaml(document), page: eventDocsPage(document) };
    }
    return this.built;
  }
}
