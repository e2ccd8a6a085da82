/** Shapes of the widget API (docs/realtime-and-api.md), as the widget reads them. */

export interface Attachment {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  url: string;
}

export interface Message {
  id: string;
  conversationId: string;
  direction: 'in' | 'out';
  private: boolean;
  senderType: 'contact' | 'user' | 'system';
  senderId: string | null;
  senderName: string | null;
  content: string;
  attachments: Attachment[];
  status: 'received' | 'sent' | 'delivered' | 'read' | 'failed';
  clientMessageId: string | null;
  createdAt: string;
}

export interface PrechatField {
  name: 'name' | 'email';
  required: boolean;
}

export interface InboxConfig {
  name: string;
  color: string;
  greeting: string;
  prechat: { enabled: boolean; fields: PrechatField[] };
  online: boolean;
}

export interface WidgetConversation {
  id: string;
  status: string;
  agentLastReadAt: string | null;
}

export interface ConversationSnapshot {
  conversation: WidgetConversation;
  messages: Message[];
}

export interface CreatedConversation {
  token: string;
  conversation: { id: string; status: string };
  contact: { id: string; name: string | null; email: string | null };
}

/** `window.parleySettings`, set by the host page for logged-in visitors. */
export interface ParleySettings {
  identifier?: string;
  identifierHash?: string;
  name?: string;
  email?: string;
}
