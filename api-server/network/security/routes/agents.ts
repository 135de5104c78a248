// /v2.0/agents: the agents node agents report by heartbeat; admins only. A non-admin lists none
// and finds none (404), as Neutron filters what policy refuses.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { allows, authorize } from '../../../common/authorize.js';
import { contextOf, requireAuth } from '../../../common/context.js';
import { agentNotFound, agentView, deleteAgent, findAgent, listAgents, updateAgent } from '../agents.js';
import {
  applyFilters,
  booleanAttribute,
  rejectUnknown,
  resourceBody,
  selectFields,
  stringAttribute,
} from '../api.js';
import type { SecurityService } from '../service.js';

type IdParams = { Params: { id: string } };

export const agentRoutes: FastifyPluginAsync<SecurityService> = async (app, service) => {
  const { db, policy, identity } = service;
  app.addHook('preHandler', requireAuth(identity));

  const mayGet = (request: FastifyRequest) => allows(policy, contextOf(request), 'get_agent', {});

  async function visibleAgent(request: FastifyRequest, id: string) {
    const agent = await findAgent(db, id);
    if (!agent || !mayGet(request)) throw agentNotFound(id);
    return agent;
  }

  app.get('/v2.0/agents', async (request) => {
    if (!mayGet(request)) return { agents: [] };
    const views = applyFilters(
      request,
      (await listAgents(db)).map((row) => agentView(row)),
    );
    return { agents: views.map((view) => selectFields(request, view)) };
  });

  app.get<IdParams>('/v2.0/agents/:id', async (request) => {
    const agent = await visibleAgent(request, request.params.id);
    return { agent: selectFields(request, agentView(agent)) };
  });

  app.put<IdParams>('/v2.0/agents/:id', async (request) => {
    const agent = await visibleAgent(request, request.params.id);
    authorize(policy, request, 'update_agent', {});
    const body = resourceBody(request, 'agent');
    rejectUnknown(body, ['admin_state_up', 'description']);
    const adminStateUp = booleanAttribute(body, 'admin_state_up');
    const description = body.description === null ? null : stringAttribute(body, 'description');
    await updateAgent(db, agent.id, {
      ...(adminStateUp !== undefined && { admin_state_up: adminStateUp }),
      ...(description !== undefined && { description }),
    });
    return { agent: agentView((await findAgent(db, agent.id))!) };
  });

  app.delete<IdParams>('/v2.0/agents/:id', async (request, reply) => {
    const agent = await visibleAgent(request, request.params.id);
    authorize(policy, request, 'delete_agent', {});
    if (!(await deleteAgent(db, agent.id))) throw agentNotFound(agent.id);
    return reply.code(204).send();
  });
};
