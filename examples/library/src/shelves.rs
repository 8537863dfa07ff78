//! `library.v1.ShelfService`: deliberately minimal (paging only).

use tonic::{Request, Response, Status};

use crate::books::Library;
use crate::names::{self, invalid};
use crate::paging;
use crate::pb::shelf_service_server::ShelfService;
use crate::pb::{
    CreateShelfRequest, DeleteShelfRequest, GetShelfRequest, ListShelvesRequest,
    ListShelvesResponse, Shelf,
};
use crate::recorder::CallRequest;
use crate::store::now;

const SERVICE: &str = "ShelfService";

#[tonic::async_trait]
impl ShelfService for Library {
    async fn list_shelves(
        &self,
        request: Request<ListShelvesRequest>,
    ) -> Result<Response<ListShelvesResponse>, Status> {
        let decoded = CallRequest::ListShelves(request.get_ref().clone());
        self.state
            .enter(SERVICE, "ListShelves", &request, decoded)
            .await?;
        let req = request.into_inner();
        let size = paging::page_size(req.page_size, &self.state.options)?;
        let print = paging::fingerprint(&["shelves"]);
        let offset = paging::decode(&req.page_token, print)?;
        let data = self.state.data();
        let rest: Vec<&Shelf> = data.shelves.values().skip(offset).collect();
        let next_page_token = if rest.len() > size {
            paging::encode(offset + size, print)
        } else {
            String::new()
        };
        Ok(Response::new(ListShelvesResponse {
            shelves: rest.into_iter().take(size).cloned().collect(),
            next_page_token,
        }))
    }

    async fn get_shelf(
        &self,
        request: Request<GetShelfRequest>,
    ) -> Result<Response<Shelf>, Status> {
        let decoded = CallRequest::GetShelf(request.get_ref().clone());
        self.state
            .enter(SERVICE, "GetShelf", &request, decoded)
            .await?;
        let name = request.into_inner().name;
        names::shelf_id("name", &name)?;
        self.state
            .data()
            .shelves
            .get(&name)
            .map(|s| Response::new(s.clone()))
            .ok_or_else(|| Status::not_found(format!("{name} not found")))
    }

    async fn create_shelf(
        &self,
        request: Request<CreateShelfRequest>,
    ) -> Result<Response<Shelf>, Status> {
        let decoded = CallRequest::CreateShelf(request.get_ref().clone());
        self.state
            .enter(SERVICE, "CreateShelf", &request, decoded)
            .await?;
        let req = request.into_inner();
        let Some(input) = req.shelf else {
            return Err(invalid("shelf", "shelf is required"));
        };
        if !req.shelf_id.is_empty() && !names::valid_id(&req.shelf_id) {
            return Err(invalid(
                "shelf_id",
                format!(
                    "shelf_id {:?} is not a valid id (^[A-Za-z0-9][A-Za-z0-9._~-]{{0,127}}$)",
                    req.shelf_id
                ),
            ));
        }
        let mut data = self.state.data();
        let id = if req.shelf_id.is_empty() {
            loop {
                let id = data.generated_id("shelf");
                if !data.shelves.contains_key(&format!("shelves/{id}")) {
                    break id;
                }
            }
        } else {
            req.shelf_id
        };
        let name = format!("shelves/{id}");
        if data.shelves.contains_key(&name) {
            return Err(Status::already_exists(format!("{name} already exists")));
        }
        let shelf = Shelf {
            name: name.clone(),
            theme: input.theme,
            create_time: Some(now()),
        };
        data.shelves.insert(name, shelf.clone());
        Ok(Response::new(shelf))
    }

    async fn delete_shelf(
        &self,
        request: Request<DeleteShelfRequest>,
    ) -> Result<Response<()>, Status> {
        let decoded = CallRequest::DeleteShelf(request.get_ref().clone());
        self.state
            .enter(SERVICE, "DeleteShelf", &request, decoded)
            .await?;
        let name = request.into_inner().name;
        names::shelf_id("name", &name)?;
        let mut data = self.state.data();
        if !data.shelves.contains_key(&name) {
            return Err(Status::not_found(format!("{name} not found")));
        }
        let held = data
            .books
            .keys()
            .filter(|b| names::parent_of(b) == Some(name.as_str()))
            .count();
        if held > 0 {
            return Err(Status::failed_precondition(format!(
                "{name} still holds {held} book(s); delete them first"
            )));
        }
        data.shelves.remove(&name);
        Ok(Response::new(()))
    }
}
