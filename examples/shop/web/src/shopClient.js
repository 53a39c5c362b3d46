'use strict';
// A web client of the example shop's API (examples/shop): what the storefront reads.

class ShopError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

class ShopClient {
  constructor(baseUrl, { token } = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.token = token;
  }

  async request(path, { auth = false } = {}) {
    const headers = { Accept: 'application/json' };
    if (auth) headers.Authorization = `Bearer ${this.token}`;
    const response = await fetch(`${this.baseUrl}${path}`, { headers });
    const body = await response.json();
    if (!response.ok) throw new ShopError(response.status, body.error);
    return body;
  }

  product(id) {
    return this.request(`/products/${id}`);
  }

  products() {
    return this.request('/products');
  }

  me() {
    return this.request('/auth/me', { auth: true });
  }
}

module.exports = { ShopClient, ShopError };
